/*
 * Test fixture: a valid shared library that is not an AutoGLM plugin: it exports a function,
 * but no `aglm_plugin_entry_v1` (nor any other entry symbol).
 */

/** Some unrelated exported function. */
int not_an_autoglm_plugin(void);

int not_an_autoglm_plugin(void) { return 42; }
