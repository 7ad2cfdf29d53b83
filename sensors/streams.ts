import { defineStreamSensor } from "../engine/automation/stream-sensor.ts";

/**
 * Keeps the real-time sources consumed: order events (Kafka), stock updates (RabbitMQ) and chat messages
 * (webhooks). Whenever one has messages waiting and no run of this sensor is going, one run consumes a batch
 * of each stream behind and carries it to the graph.
 */
export const liveStreams = defineStreamSensor({
  name: "live_streams",
  description: "Consumes the streams as messages arrive and loads what they change into the graph",
  streams: "group:stream",
});
