import Foundation
import Testing
@testable import Shared

/// The buttons and selects agents put on replies (CONTRACT section 6): Discord's limits checked
/// before posting, the agent's ids kept, the signed ids in their place.
@Suite("AgentComponents")
struct AgentComponentsTests {
    static let signer = ComponentIDSigner(key: "components-test-key")

    @Test("buttons become one row, ids are the labels, the first primary")
    func buttons() throws {
        let parsed = try #require(try AgentComponents.parse(buttons: #"["Approve","Deny"]"#, components: nil))
        #expect(parsed.items == [.init(customID: "Approve", label: "Approve"), .init(customID: "Deny", label: "Deny")])
        let rows = parsed.signedRows(set: "17-0", signer: Self.signer)
        #expect(rows.count == 1)
        let buttons = rows[0]["components"]
        guard case .array(let list)? = buttons else { Issue.record("no buttons"); return }
        #expect(list.map { $0["style"]?.intValue } == [1, 2])
        #expect(list.map { $0["label"]?.stringValue } == ["Approve", "Deny"])
        #expect(list.compactMap { $0["custom_id"]?.stringValue }.map { Self.signer.verify($0) } == [.init(set: "17-0", index: 0), .init(set: "17-0", index: 1)])
    }

    @Test("components keep their shape; link buttons keep their url and are not counted")
    func components() throws {
        let json = #"""
        [{"type":1,"components":[{"type":2,"style":3,"label":"Ship it","custom_id":"ship"},{"type":2,"style":5,"label":"Diff","url":"https://example.com/diff"}]},
         {"type":1,"components":[{"type":3,"custom_id":"region","placeholder":"Region","options":[{"label":"EU","value":"eu"},{"label":"US","value":"us"}],"max_values":2}]}]
        """#
        let parsed = try #require(try AgentComponents.parse(buttons: #"["Cancel"]"#, components: json))
        #expect(parsed.items.map(\.customID) == ["ship", "region", "Cancel"])
        #expect(parsed.items[1].label == "Region")
        let rows = parsed.signedRows(set: "9-3", signer: Self.signer)
        #expect(rows.count == 3)
        #expect(rows[0]["components"].flatMap { if case .array(let l) = $0 { l[1]["url"]?.stringValue } else { nil } } == "https://example.com/diff")
        #expect(rows[1]["components"].flatMap { if case .array(let l) = $0 { l[0]["custom_id"]?.stringValue } else { nil } }.flatMap(Self.signer.verify) == .init(set: "9-3", index: 1))
        #expect(rows[1]["components"].flatMap { if case .array(let l) = $0 { l[0]["max_values"]?.intValue } else { nil } } == 2)
    }

    @Test("neither field: nothing")
    func none() throws {
        #expect(try AgentComponents.parse(buttons: nil, components: nil) == nil)
    }

    @Test("what Discord would refuse is refused with a reason", arguments: [
        (#"not json"#, nil, "buttons must be a JSON array"),
        (#"[]"#, nil, "1 to 5 labels"),
        (#"["1","2","3","4","5","6"]"#, nil, "1 to 5 labels"),
        (#"["\#(String(repeating: "x", count: 81))"]"#, nil, "at most 80 characters"),
        (#"["Yes","Yes"]"#, nil, "used twice"),
        (nil, #"{"type":1}"#, "JSON array of action rows"),
        (nil, #"[{"type":2,"style":1,"label":"a","custom_id":"a"}]"#, "must be an action row"),
        (nil, #"[{"type":1,"components":[{"type":2,"style":1,"label":"a"}]}]"#, "needs a custom_id"),
        (nil, #"[{"type":1,"components":[{"type":2,"style":1,"label":"a","custom_id":"\#(String(repeating: "i", count: 65))"}]}]"#, "at most 64 characters"),
        (nil, #"[{"type":1,"components":[{"type":2,"style":5,"label":"a","custom_id":"a","url":"https://x"}]}]"#, "not a custom_id"),
        (nil, #"[{"type":1,"components":[{"type":2,"style":9,"label":"a","custom_id":"a"}]}]"#, "style must be 1 to 5"),
        (nil, #"[{"type":1,"components":[{"type":4,"custom_id":"t"}]}]"#, "only buttons"),
        (nil, #"[{"type":1,"components":[{"type":3,"custom_id":"s","options":[]}]}]"#, "1 to 25 options"),
        (nil, #"[{"type":1,"components":[{"type":3,"custom_id":"s","options":[{"label":"a","value":"a"}],"max_values":2}]}]"#, "min_values and max_values"),
        (nil, #"[{"type":1,"components":[{"type":3,"custom_id":"s","options":[{"label":"a","value":"a"}]},{"type":2,"style":1,"label":"b","custom_id":"b"}]}]"#, "fills its row alone"),
        (nil, "[" + Array(repeating: #"{"type":1,"components":[{"type":2,"style":1,"label":"a","custom_id":"a"}]}"#, count: 6).joined(separator: ",") + "]", "at most 5 rows"),
    ] as [(String?, String?, String)])
    func refusals(buttons: String?, components: String?, reason: String) {
        let error = #expect(throws: AgentComponents.Invalid.self) { try AgentComponents.parse(buttons: buttons, components: components) }
        #expect(error?.description.contains(reason) == true, "\(error?.description ?? "no error")")
    }

    @Test("a component context survives its hash codec")
    func contextCodec() throws {
        let context = ComponentContext(agent: "loom", answersRequest: "", channelID: "3", items: [.init(customID: "a:b", label: "A")])
        #expect(try ComponentContext(fields: context.streamFields) == context)
        #expect(throws: RecordError.self) { try ComponentContext(fields: StreamFields(["count": "1"])) }
    }
}
