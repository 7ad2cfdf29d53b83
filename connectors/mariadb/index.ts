export { createMysqlPool, type mysql, type MysqlPoolOptions } from "./pool.ts";
export { readMysql, type ReadMysqlOptions } from "./read-mysql.ts";
export { mariadbResource } from "./resource.ts";
