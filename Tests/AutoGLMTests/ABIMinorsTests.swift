import AutoGLM
import CAutoGLM
import Foundation
import XCTest

/// ABI negotiation across 1.0 to 1.4: libraries built for the older minors load and keep
/// working on this 1.4 host (their shorter structs read only up to their struct_size, no event
/// they do not know), and a library that needs 1.2 is refused by a 1.1 host with the exact
/// message.
final class ABIMinorsTests: XCTestCase {
    func testThisHostSpeaks14() {
        XCTAssertEqual(AGLM_ABI_MAJOR, 1)
        XCTAssertEqual(AGLM_ABI_MINOR, 4)
    }

    func testLibrariesOf10And11Load() throws {
        for (fixture, abi, component) in [("old_minor.c", "1.0", ComponentKind.callback), ("minor_1_1.c", "1.1", .callback),
                                          ("attention_1_0.c", "1.0", .attention)] {
            let registry = try PluginBuilder.fixtureRegistry(fixture)
            XCTAssertEqual(registry.libraries.first?.abi, abi, fixture)
            XCTAssertTrue(registry.failures.isEmpty, "\(fixture): \(registry.failures)")
            XCTAssertFalse(registry.names(kind: component).isEmpty, fixture)
        }
        // The 1.0 attention's vtable stops before decode (a stray pointer follows it): not read.
        let registry = try PluginBuilder.fixtureRegistry("attention_1_0.c")
        let info = try XCTUnwrap(registry.info(named: "attention_1_0").first)
        XCTAssertEqual(info.attentionPath, "composed")
        XCTAssertFalse(info.decodes)
    }

    func testA12LibraryIsRefusedByA11HostWithTheExactMessage() throws {
        // The numbers of a bundled plugin that needs 1.2 (built against this 1.4 header), as a 1.1
        // host would read them.
        let path = try XCTUnwrap(PluginSearchPath.bundledDirectory) + "/libaglm_rope.so"
        let handle = try XCTUnwrap(dlopen(path, RTLD_NOW | RTLD_LOCAL), "\(path)")
        let entryFn = unsafeBitCast(try XCTUnwrap(dlsym(handle, AGLM_ENTRY_SYMBOL)), to: aglm_plugin_entry_fn.self)
        let entry = try XCTUnwrap(entryFn()).pointee
        XCTAssertEqual([entry.abi_major, entry.abi_minor, entry.min_host_minor], [1, UInt32(AGLM_ABI_MINOR), 2])
        XCTAssertEqual(ABINegotiation.refusal(abiMajor: entry.abi_major, abiMinor: entry.abi_minor, minHostMinor: entry.min_host_minor,
                                              hostMajor: 1, hostMinor: 1),
                       "needs host ABI 1.2 or newer, host speaks 1.1: upgrade autoglm, or rebuild the plugin with min_host_minor <= 1")
        XCTAssertNil(ABINegotiation.refusal(abiMajor: 1, abiMinor: 2, minHostMinor: 2, hostMajor: 1, hostMinor: 2))
        // Older libraries are accepted by every host from their minimum on.
        XCTAssertNil(ABINegotiation.refusal(abiMajor: 1, abiMinor: 1, minHostMinor: 1, hostMajor: 1, hostMinor: 1))
        XCTAssertNil(ABINegotiation.refusal(abiMajor: 1, abiMinor: 0, minHostMinor: 0, hostMajor: 1, hostMinor: 1))
        XCTAssertEqual(ABINegotiation.refusal(abiMajor: 1, abiMinor: 1, minHostMinor: 1, hostMajor: 1, hostMinor: 0),
                       "needs host ABI 1.1 or newer, host speaks 1.0: upgrade autoglm, or rebuild the plugin with min_host_minor <= 0")
    }

    func testEventsOf12AreNotSentToOlderCallbacks() throws {
        func run(_ defines: [String]) throws -> Error? {
            let registry = try PluginBuilder.fixtureRegistry("strict_events.c", defines: defines)
            let callback = try CallbackInstance(registry: registry, name: "strict_events", parameters: [:])
            var control = TrainerControl()
            do {
                for event in TrainingEvent.allCases { try callback.onEvent(event, state: TrainerSnapshot(), control: &control) }
                return nil
            } catch { return error }
        }
        XCTAssertNil(try run(["AS_MINOR_1"]), "a 1.1 callback never sees AGLM_EVENT_EVALUATE_BEGIN")
        let error = try XCTUnwrap(try run([]), "a 1.2 callback gets it")
        XCTAssertTrue("\(error)".contains("on_event(AGLM_EVENT_EVALUATE_BEGIN): unknown event 7"), "\(error)")
    }
}
