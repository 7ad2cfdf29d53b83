export { ChatClient, TicketExport } from "./client.ts";
export type {
  ChatClientOptions,
  ChatClientStats,
  ChatComment,
  ChatExportPosition,
  ChatExportStart,
  ChatTicket,
  ChatUser,
} from "./client.ts";
export { chatResource } from "./resource.ts";
