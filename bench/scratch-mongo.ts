import type { Db } from "mongodb";
import { connectMongo } from "../connectors/mongodb/index.ts";
import { settings } from "../resources/settings.ts";

/**
 * A MongoDB database of a bench's own on the stack's FerretDB (or MONGODB_URL's server), emptied first:
 * the generator writes the catalogue there and the workers read it through `url` (as MONGODB_URL).
 */
export async function scratchMongoDatabase(name: string): Promise<{ db: Db; url: string; drop(): Promise<void> }> {
  const url = new URL(settings().mongo.url);
  url.pathname = `/${name}`;
  const db = await connectMongo(url.toString());
  await db.dropDatabase();
  return {
    db,
    url: url.toString(),
    drop: async () => {
      await db.dropDatabase();
      await db.client.close();
    },
  };
}
