export { defineStreamAsset, isStreamAsset } from "./stream-asset.ts";
export type { StreamAsset, StreamAssetSpec } from "./stream-asset.ts";
export { writePositions } from "./stream.ts";
export type { StreamBatch, StreamLag, StreamMessage, StreamSource } from "./stream.ts";
export {
  type KafkaClient,
  kafkaKind,
  type KafkaMessage,
  KafkaOffsetGone,
  kafkaResource,
  kafkaTopic,
  openKafka,
} from "./kafka.ts";
export { RabbitMq, rabbitmqKind, rabbitmqQueue, rabbitmqResource } from "./rabbitmq.ts";
export { webhookDeliveries, webhookDeliveriesKind, webhookDeliveriesResource } from "./webhooks.ts";
