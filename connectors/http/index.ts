export {
  type Authorization,
  HttpClient,
  type HttpClientOptions,
  type HttpClientStats,
  type JsonRequest,
  type NewApiError,
} from "./client.ts";
export { ApiError } from "./errors.ts";
export { type Page, paginate } from "./paginate.ts";
