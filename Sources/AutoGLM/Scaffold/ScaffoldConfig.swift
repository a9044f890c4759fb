/// The config of a plugin folder (`try.yaml`): a small model trained with the new component
/// selected.
enum ScaffoldConfig {
    /// The selection of the component in a config, by kind.
    static func selection(_ scaffold: PluginScaffold) -> String {
        let name = scaffold.name
        switch scaffold.kind {
        case .attention:
            return "attention:\n  name: \(name)\n  temperature: 1.0\n"
        case .optimizer:
            return "optimizer:\n  name: \(name)\n  lr: 0.01\n  momentum: 0.9\n"
        case .evaluator:
            return "evaluators: [perplexity, \(name)]\nparams:\n  \(name):\n    k: 1\n"
        case .callback:
            return "callbacks: [\(name)]\nparams:\n  \(name):\n    every: 20\n"
        }
    }

    /// try.yaml of `scaffold`.
    static func text(_ scaffold: PluginScaffold) -> String {
        """
        # Trains a small model with \(scaffold.name): run `make try` here, or from this folder
        # `autoglm train --plugins . --config try.yaml` (--plugins . finds \(scaffold.name).so; the run
        # goes to runs/\(scaffold.name)). Every other key keeps its default (`autoglm init` writes
        # them all with their meaning).
        model:
          n_layer: 2
          n_head: 4
          n_embd: 64
          block_size: 64
        train:
          steps: 200
          eval_interval: 100
          eval_batches: 20
          log_interval: 20
        run:
          dir: runs/\(scaffold.name)
        \(selection(scaffold))
        """
    }

    /// The `--set` options that select the component on the command line instead.
    static func overrides(_ scaffold: PluginScaffold) -> String {
        let name = scaffold.name
        switch scaffold.kind {
        case .attention: return "--set attention.name=\(name)"
        case .optimizer: return "--set optimizer.name=\(name) --set optimizer.lr=0.01"
        case .evaluator: return "--set evaluators=perplexity,\(name)"
        case .callback: return "--set callbacks=\(name)"
        }
    }
}
