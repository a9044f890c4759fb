/* placeholder, replaced by the real plugin */ typedef int aglm_placeholder_causal_dense;
