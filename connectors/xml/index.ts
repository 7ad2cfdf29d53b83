export { readXml } from "./read-xml.ts";
export type { XmlElement, XmlOptions, XmlValue } from "./read-xml.ts";
