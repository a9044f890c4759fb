/// The Makefile of a plugin folder: `make` builds NAME.so, `make check` runs `autoglm plugins
/// validate` on it, `make try` trains with it (try.yaml), `make clean`.
enum ScaffoldMakefile {
    /// The Makefile of `scaffold`. The header comes from `pkg-config --cflags autoglm` when
    /// AutoGLM is installed with its .pc file, else from the include directory found when the
    /// folder was made; the executable is the one that made the folder while it exists, else
    /// `autoglm` from PATH. Both can be overridden on make's command line.
    static func text(_ scaffold: PluginScaffold) -> String {
        let name = scaffold.name
        let include = scaffold.includeDirectory.map { "AUTOGLM_INCLUDE ?= \($0)" }
            ?? "# No AutoGLM include directory was found next to autoglm: install AutoGLM (pkg-config autoglm)\n# or run make AUTOGLM_INCLUDE=/path/to/autoglm/include\nAUTOGLM_INCLUDE ?="
        let executable = scaffold.executable.map { "$(firstword $(wildcard \($0)) autoglm)" } ?? "autoglm"
        return """
        # Builds \(name).so, an AutoGLM \(scaffold.kind.rawValue) plugin, from \(name).c (made by `autoglm plugins new`).
        #   make         build \(name).so
        #   make check   build it and run the host's conformance checks on it (autoglm plugins validate)
        #   make try     train a small model with it (try.yaml)
        #   make clean   remove \(name).so
        #
        # The plugin header comes from pkg-config when AutoGLM is installed (`pkg-config --cflags
        # autoglm`), otherwise from AUTOGLM_INCLUDE. AUTOGLM is the autoglm executable to run.
        # Override either on the command line: make check AUTOGLM=/path/to/autoglm

        \(include)
        AUTOGLM ?= \(executable)

        ifeq ($(shell pkg-config --exists autoglm 2>/dev/null && echo yes),yes)
        AUTOGLM_CFLAGS := $(shell pkg-config --cflags autoglm)
        else
        AUTOGLM_CFLAGS := -I$(AUTOGLM_INCLUDE)
        endif

        CFLAGS ?= -O2 -g
        PLUGIN_CFLAGS := -std=c99 -fPIC -Wall -Wextra -pedantic $(AUTOGLM_CFLAGS)

        \(name).so: \(name).c
        \t$(CC) $(CPPFLAGS) $(CFLAGS) $(PLUGIN_CFLAGS) -shared -o $@ $< $(LDFLAGS) -lm

        check: \(name).so
        \t$(AUTOGLM) plugins validate ./\(name).so

        try: \(name).so
        \t$(AUTOGLM) train --plugins . --config try.yaml

        clean:
        \trm -f \(name).so

        .PHONY: check try clean

        """
    }
}
