// The Host part's parser of what a host reports.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseHostFacts } from "../../../components/host/render";

describe("parsers", () => {
    it("reads host facts: CentOS 7 is rhel, Debian is debian", () => {
        assert.deepEqual(parseHostFacts("os_id=centos\nos_version=7\nos_like=rhel fedora\ninit=systemd\nhostname=consulsvr\n"), {
            osId: "centos",
            osVersion: "7",
            osFamily: "rhel",
            initSystem: "systemd",
            hostname: "consulsvr",
        });
        assert.equal(parseHostFacts("os_id=debian\nos_version=12\n").osFamily, "debian");
        assert.equal(parseHostFacts("os_id=rocky\nos_like=rhel centos fedora\n").osFamily, "rhel");
    });
});
