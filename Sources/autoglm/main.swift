import AutoGLM
