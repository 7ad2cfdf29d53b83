import { parentPort, workerData } from "node:worker_threads";
import { layoutGraph, type LayoutInput } from "./layout.ts";

// A large graph's layout takes seconds of CPU: here, off the server's event loop.
parentPort!.postMessage(layoutGraph(workerData as LayoutInput));
