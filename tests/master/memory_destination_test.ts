import { MemoryDestination } from "../../master/destinations/memory.ts";
import { destinationContract } from "./destination_contract.ts";

destinationContract("memory", () => {
  const destination = new MemoryDestination("memory");
  return Promise.resolve({
    destination,
    putForeign(ics: string) {
      const uid = /^UID:(.*)$/m.exec(ics)?.[1]?.trim() ?? crypto.randomUUID();
      const href = `/cal/${uid}.ics`;
      destination.putForeign(href, /^SUMMARY:(.*)$/m.exec(ics)?.[1]?.trim() ?? "");
      return Promise.resolve(href);
    },
    cleanup: () => Promise.resolve(),
  });
});
