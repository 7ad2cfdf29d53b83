// Vite bundles the stylesheet an import names.
declare module "*.css";
