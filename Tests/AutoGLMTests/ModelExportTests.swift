import AutoGLM
import Foundation
import XCTest

/// `autoglm export`: the nanoGPT state dict and the Hugging Face GPT-2 directory, read by the
/// real `safetensors` package (names, shapes, values against the checkpoint's), run by a NumPy
/// transcription of transformers' GPT-2 forward, and by `transformers` itself when it imports.
final class ModelExportTests: XCTestCase {
    /// GPT-2's names for the checkpoint's tensors, and whether the Hugging Face layout stores
    /// the tensor transposed (its Conv1D projections): written here from nanoGPT's `model.py`,
    /// independently of the exporter.
    private func gpt2Names(layers: Int) -> [(ours: String, theirs: String, conv1D: Bool)] {
        var names = [("token_embedding.weight", "transformer.wte.weight", false),
                     ("position_embedding.weight", "transformer.wpe.weight", false),
                     ("final_norm.weight", "transformer.ln_f.weight", false)]
        for i in 0..<layers {
            names += [("blocks.\(i).norm1.weight", "transformer.h.\(i).ln_1.weight", false),
                      ("blocks.\(i).attn.qkv.weight", "transformer.h.\(i).attn.c_attn.weight", true),
                      ("blocks.\(i).attn.proj.weight", "transformer.h.\(i).attn.c_proj.weight", true),
                      ("blocks.\(i).norm2.weight", "transformer.h.\(i).ln_2.weight", false),
                      ("blocks.\(i).mlp.fc.weight", "transformer.h.\(i).mlp.c_fc.weight", true),
                      ("blocks.\(i).mlp.out.weight", "transformer.h.\(i).mlp.c_proj.weight", true)]
        }
        return names
    }

    /// The trained run's latest checkpoint's weights file.
    private var checkpointWeights: String {
        get throws { try RunDirectory.checkpoint(at: TrainedRunTests.trained.dir.path).appendingPathComponent("model.safetensors").path }
    }

    /// Exports the trained run in `format` into a new directory.
    private func export(_ format: ExportFormat) throws -> URL {
        let out = try PluginBuilder.temporaryDirectory("export-\(format.rawValue)")
        try ModelExport.export(run: TrainedRunTests.trained.dir.path, format: format, to: out.path)
        return out
    }

    /// Compares every exported tensor with the checkpoint's in Python; returns the report.
    private func compare(_ exported: URL, transposeConv1D: Bool, extra: [String: String]) throws -> [String: Any] {
        let python = try InteropPython.require(module: "safetensors")
        let layers = TrainedRunTests.trained.session.model.config.nLayer
        let table = gpt2Names(layers: layers).map { [$0.ours, $0.theirs, $0.conv1D && transposeConv1D ? "T" : ""] } + extra.map { [$0.value, $0.key, ""] }
        let script = """
        import json, sys
        import numpy as np
        from safetensors.numpy import load_file
        ours, theirs, table, out = load_file(sys.argv[1]), load_file(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
        report = {"names": sorted(theirs), "mismatch": [], "biases": {}}
        for a, b, t in table:
            want = ours[a].T if t else ours[a]
            if theirs[b].dtype != np.float32 or theirs[b].shape != want.shape or not np.array_equal(theirs[b], want):
                report["mismatch"].append(b)
        for name, value in theirs.items():
            if name.endswith(".bias"):
                report["biases"][name] = [list(value.shape), float(np.abs(value).max())]
        json.dump(report, open(out, "w"))
        """
        let data = try JSONSerialization.data(withJSONObject: table)
        let out = try InteropPython.run(python, script: script, arguments: [try checkpointWeights,
                                        exported.appendingPathComponent("model.safetensors").path, String(decoding: data, as: UTF8.self)])
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: out) as? [String: Any])
    }

    func testNanoGPTExportHoldsTheCheckpointsTensorsUnderNanoGPTsNames() throws {
        let out = try export(.nanogpt)
        let report = try compare(out, transposeConv1D: false, extra: ["lm_head.weight": "token_embedding.weight"])
        let layers = TrainedRunTests.trained.session.model.config.nLayer
        XCTAssertEqual(report["names"] as? [String], (gpt2Names(layers: layers).map(\.theirs) + ["lm_head.weight"]).sorted(),
                       "exactly nanoGPT's state dict with bias=False")
        XCTAssertEqual(report["mismatch"] as? [String], [])
        let args = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("model_args.json"))) as? [String: Any])
        let c = TrainedRunTests.trained.session.model.config
        XCTAssertEqual(args["n_layer"] as? Int, c.nLayer)
        XCTAssertEqual(args["n_embd"] as? Int, c.nEmbd)
        XCTAssertEqual(args["block_size"] as? Int, c.blockSize)
        XCTAssertEqual(args["vocab_size"] as? Int, c.vocabSize)
        XCTAssertEqual(args["bias"] as? Bool, false)
        let meta = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("meta.json"))) as? [String: Any])
        let itos = try XCTUnwrap(meta["itos"] as? [String: String])
        let tokenizer = TrainedRunTests.trained.session.tokenizer
        XCTAssertEqual((0..<tokenizer.count).map { itos[String($0)] }, (0..<tokenizer.count).map { tokenizer.decode([Int32($0)]) })
        let saved = try CharTokenizer.load(from: out.appendingPathComponent(ModelExport.tokenizerFile))
        XCTAssertEqual(saved, tokenizer)
    }

    func testHuggingFaceExportTransposesProjectionsAndAddsZeroBiases() throws {
        let out = try export(.hf)
        let report = try compare(out, transposeConv1D: true, extra: [:])
        XCTAssertEqual(report["mismatch"] as? [String], [])
        let c = TrainedRunTests.trained.session.model.config
        let biases = try XCTUnwrap(report["biases"] as? [String: [Any]])
        XCTAssertEqual(biases.count, 6 * c.nLayer + 1, "ln_1, c_attn, c_proj, ln_2, c_fc, mlp.c_proj per block, and ln_f")
        XCTAssertEqual(biases["transformer.h.0.attn.c_attn.bias"]?.first as? [Int], [3 * c.nEmbd])
        XCTAssertEqual(biases["transformer.h.0.mlp.c_fc.bias"]?.first as? [Int], [4 * c.nEmbd])
        XCTAssertTrue(biases.values.allSatisfy { ($0.last as? Double) == 0 }, "\(biases)")
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertEqual(config["activation_function"] as? String, "gelu")
        XCTAssertEqual(config["model_type"] as? String, "gpt2")
        XCTAssertEqual(config["n_positions"] as? Int, c.blockSize)
        XCTAssertEqual(config["vocab_size"] as? Int, c.vocabSize)
    }

    /// The input scored by both sides, and our logits for it.
    private func ourLogits() throws -> (input: String, logits: [[Float]]) {
        let input = "the cat sat"
        return (input, try TrainedRunTests.trained.session.logits(of: input).logits)
    }

    func testNumPyTranscriptionOfGPT2RunsTheHuggingFaceExportToOurLogits() throws {
        let python = try InteropPython.require(module: "safetensors")
        let out = try export(.hf)
        let (input, logits) = try ourLogits()
        // transformers' GPT2Model/GPT2LMHeadModel forward (eval mode), line by line in float64:
        // Conv1D is x @ W + b, LayerNorm eps from the config, exact GELU (activation "gelu").
        let script = """
        import json, math, sys
        import numpy as np
        from safetensors.numpy import load_file
        d, ids, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
        cfg = json.load(open(d + "/config.json"))
        w = {k: v.astype(np.float64) for k, v in load_file(d + "/model.safetensors").items()}
        erf = np.vectorize(math.erf)
        def ln(x, p):
            mu = x.mean(-1, keepdims=True); var = ((x - mu) ** 2).mean(-1, keepdims=True)
            return (x - mu) / np.sqrt(var + cfg["layer_norm_epsilon"]) * w[p + ".weight"] + w[p + ".bias"]
        def conv1d(x, p): return x @ w[p + ".weight"] + w[p + ".bias"]
        T, C, H = len(ids), cfg["n_embd"], cfg["n_head"]; D = C // H
        x = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][:T]
        mask = np.tril(np.ones((T, T), dtype=bool))
        for i in range(cfg["n_layer"]):
            p = "transformer.h.%d." % i
            q, k, v = np.split(conv1d(ln(x, p + "ln_1"), p + "attn.c_attn"), 3, axis=-1)
            q, k, v = (a.reshape(T, H, D).transpose(1, 0, 2) for a in (q, k, v))
            s = np.where(mask, q @ k.transpose(0, 2, 1) / math.sqrt(D), -np.inf)
            a = np.exp(s - s.max(-1, keepdims=True)); a /= a.sum(-1, keepdims=True)
            x = x + conv1d((a @ v).transpose(1, 0, 2).reshape(T, C), p + "attn.c_proj")
            h = conv1d(ln(x, p + "ln_2"), p + "mlp.c_fc")
            x = x + conv1d(0.5 * h * (1 + erf(h / math.sqrt(2))), p + "mlp.c_proj")
        logits = ln(x, "transformer.ln_f") @ w["transformer.wte.weight"].T
        json.dump(logits.tolist(), open(out, "w"))
        """
        let ids = try TrainedRunTests.trained.session.tokenizer.encode(input).map(Int.init)
        let result = try InteropPython.run(python, script: script, arguments: [out.path, "\(ids)"])
        let theirs = try XCTUnwrap(try JSONSerialization.jsonObject(with: result) as? [[Double]])
        assertClose(theirs, logits)
    }

    func testTransformersLoadsTheHuggingFaceExportAndGivesOurLogits() throws {
        let python = try InteropPython.require(module: "transformers")
        let out = try export(.hf)
        let (input, logits) = try ourLogits()
        let script = """
        import json, sys
        import torch
        from transformers import GPT2LMHeadModel
        model = GPT2LMHeadModel.from_pretrained(sys.argv[1]).eval()
        with torch.no_grad():
            logits = model(torch.tensor([json.loads(sys.argv[2])])).logits[0]
        json.dump(logits.double().tolist(), open(sys.argv[3], "w"))
        """
        let ids = try TrainedRunTests.trained.session.tokenizer.encode(input).map(Int.init)
        let result = try InteropPython.run(python, script: script, arguments: [out.path, "\(ids)"])
        assertClose(try XCTUnwrap(try JSONSerialization.jsonObject(with: result) as? [[Double]]), logits)
    }

    /// Logits of another implementation agree with ours to float32 rounding of a small model.
    private func assertClose(_ theirs: [[Double]], _ ours: [[Float]], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(theirs.count, ours.count, file: file, line: line)
        for (a, b) in zip(theirs, ours) {
            XCTAssertEqual(a.count, b.count, file: file, line: line)
            let worst = zip(a, b).map { abs($0 - Double($1)) }.max() ?? .infinity
            XCTAssertLessThan(worst, 1e-4, "largest difference of a logit", file: file, line: line)
        }
    }

    func testModelsGPT2CannotRunAreRefusedByName() throws {
        let dir = try PluginBuilder.temporaryDirectory("alibi")
        var c = TrainingTests.config(runDir: dir.path, steps: 1)
        c.attention = ComponentSelection(kind: .attention, name: "alibi")
        c.model.positionEmbedding = false
        _ = try TrainingTests.session(c).train()
        XCTAssertThrowsError(try ModelExport.export(run: dir.path, format: .hf, to: dir.appendingPathComponent("out").path)) {
            XCTAssertTrue("\($0)".contains("the model uses attention 'alibi', which GPT-2 has no equivalent of"), "\($0)")
        }
        c.attention = ComponentSelection(kind: .attention, name: "flash", parameters: ["kv_heads": .number(1)])
        c.model.positionEmbedding = true
        _ = try TrainingTests.session(c, overwrite: true).train()
        XCTAssertThrowsError(try ModelExport.export(run: dir.path, format: .nanogpt, to: dir.appendingPathComponent("out").path)) {
            XCTAssertTrue("\($0)".contains("attention.kv_heads is 1.0"), "\($0)")
        }
    }
}
