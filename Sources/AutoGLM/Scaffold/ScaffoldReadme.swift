/// The README of a plugin folder.
enum ScaffoldReadme {
    /// What each kind's example does, in one sentence.
    static func example(_ kind: ComponentKind) -> String {
        switch kind {
        case .attention: return "causal softmax attention composed from the host's tensor ops (the host derives the backward), with a `temperature` parameter"
        case .optimizer: return "SGD with momentum, declaring one state buffer (`velocity`) that the host allocates and checkpoints"
        case .evaluator: return "top-k accuracy (`k` parameter), accumulated over the evaluation's batches"
        case .callback: return "a logger of steps, evaluations and the end of training, through the host's log"
        }
    }

    /// README.md of `scaffold`.
    static func text(_ scaffold: PluginScaffold) -> String {
        let name = scaffold.name
        return """
        # \(name)

        An AutoGLM \(scaffold.kind.rawValue) plugin, made by `autoglm plugins new \(name) --kind \(scaffold.kind.rawValue)`.
        `\(name).c` is a small working example to change: \(example(scaffold.kind)).

        ```sh
        make          # builds \(name).so (C99, warning-free with -Wall -Wextra -pedantic)
        make check    # autoglm plugins validate ./\(name).so: the host's conformance checks
        make try      # trains a small model with it: autoglm train --plugins . --config try.yaml
        ```

        Use it in any run by putting this folder on the plugin search path and selecting it:

        ```sh
        autoglm train --plugins . \(ScaffoldConfig.overrides(scaffold))
        autoglm plugins show \(name) --plugins .      # its parameter schema
        ```

        The header is found with `pkg-config --cflags autoglm` when AutoGLM is installed, else in
        the include directory written at the top of the Makefile (`make AUTOGLM_INCLUDE=DIR` to
        change it). The plugin guide (`plugins/README.md` of AutoGLM) explains the ownership and
        threading rules of every call; `autoglm/helpers.h` lists the helpers used here.

        """
    }
}
