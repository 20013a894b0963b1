// The Swarm part's parser of the node list.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSwarmNodes } from "../../../components/swarm/render";

describe("parsers", () => {
    it("reads swarm nodes", () => {
        assert.deepEqual(parseSwarmNodes("node=b Ready Active \nnode=a Ready Active Leader\nnoise\n"), [
            { hostname: "a", status: "Ready", availability: "Active", manager: "Leader" },
            { hostname: "b", status: "Ready", availability: "Active", manager: "" },
        ]);
    });
});
