import AutoGLMCLI

// The `autoglm` executable: the command line lives in the AutoGLMCLI library (so that its tests
// link it without this executable's static Swift runtime).
AutoGLMCommand.main()
