export { createMysqlPool, type mysql, type MysqlPoolOptions } from "./pool.ts";
export { type MysqlTableObservation, observeMysqlTable } from "./observe-table.ts";
export { readMysql, type ReadMysqlOptions } from "./read-mysql.ts";
export { mariadbResource } from "./resource.ts";
