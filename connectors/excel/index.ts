export { readExcelSheet } from "./read-excel.ts";
export type { ExcelRecord, ExcelValue } from "./read-excel.ts";
