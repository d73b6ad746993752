"""Named model configurations used by tests, the demo and the benchmark.

Each one is a config.json dict in the official key vocabulary. The test
presets deliberately cover odd sizes, zero meta tokens, KV-sharing groups of
three, grouped-query groups of three, tiny windows and untied heads.
"hymba-1.5b" is the shape of nvidia/Hymba-1.5B-Base (facts about the
published model, checked against its config.json by a test when a copy is
at ../shared/hymba).
"""
import copy
import os

# Where a copy of the real config may be (only tests look, and only to
# compare; nothing needs it).
SHARED_HYMBA = os.path.normpath(os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "hymba"))


def _base(**kw):
    cfg = {
        "architectures": ["HymbaForCausalLM"], "model_type": "hymba",
        "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0,
        "hidden_act": "silu", "mlp_hidden_act": "silu",
        "attn_hidden_size": -1, "kq_head_dim": -1, "kq_norm": "none",
        "mamba_conv_bias": True, "mamba_proj_bias": False,
        "mamba_inner_layernorms": True, "mamba_expand": 2,
        "mamba_d_conv": 4, "mamba_d_state": 4, "mamba_dt_rank": 5,
        "memory_tokens_interspersed_every": 0, "num_experts": 1,
        "num_experts_per_tok": 1, "rms_norm_eps": 1e-6, "rope": True,
        "rope_type": "ntk", "rope_theta": 10000.0,
        "max_position_embeddings": 64, "orig_max_position_embeddings": 32,
        "tie_word_embeddings": True, "torch_dtype": "float32",
    }
    cfg.update(kw)
    cfg["layer_type"] = ["h"] * cfg["num_hidden_layers"]
    return cfg


PRESETS = {
    # Meta tokens, SWA with window shorter than most prompts, one KV pair group,
    # a vocab that is not a multiple of 16.
    "tiny": _base(vocab_size=67, hidden_size=32, intermediate_size=45,
                  num_hidden_layers=4, num_attention_heads=4,
                  num_key_value_heads=2, num_memory_tokens=5,
                  sliding_window=6, global_attn_idx=[0, 3],
                  kv_reuse_group=[[1, 2]]),
    # No meta tokens, every layer global (no sliding_window), untied head.
    "nometa": _base(vocab_size=50, hidden_size=24, intermediate_size=40,
                    num_hidden_layers=3, num_attention_heads=3,
                    num_key_value_heads=1, num_memory_tokens=0,
                    sliding_window=None, global_attn_idx=[],
                    kv_reuse_group=[], tie_word_embeddings=False,
                    rope_type="default"),
    # A KV-sharing group of three layers and GQA groups of three q-heads.
    "group3": _base(vocab_size=80, hidden_size=36, intermediate_size=52,
                    num_hidden_layers=5, num_attention_heads=6,
                    num_key_value_heads=2, num_memory_tokens=3,
                    sliding_window=4, global_attn_idx=[0, 4],
                    kv_reuse_group=[[1, 2, 3]]),
    # Sizes that are not multiples of any vector width, dt_rank "auto",
    # conv width 3, window of 2.
    "odd": _base(vocab_size=101, hidden_size=30, intermediate_size=37,
                 num_hidden_layers=3, num_attention_heads=5,
                 num_key_value_heads=5, num_memory_tokens=7,
                 sliding_window=2, global_attn_idx=[2],
                 kv_reuse_group=[[0, 1]], mamba_dt_rank="auto",
                 mamba_d_state=3, mamba_d_conv=3),
    # Small random layers with the 1.5B's vocabulary (bench --quick, CLI tests).
    "demo": _base(vocab_size=32001, hidden_size=128, intermediate_size=344,
                  num_hidden_layers=4, num_attention_heads=4,
                  num_key_value_heads=2, num_memory_tokens=16,
                  sliding_window=32, global_attn_idx=[0, 3],
                  kv_reuse_group=[[1, 2]], mamba_dt_rank=8, mamba_d_state=16,
                  max_position_embeddings=1024,
                  orig_max_position_embeddings=256),
}


PRESETS["hymba-1.5b"] = dict(
    _base(vocab_size=32001, hidden_size=1600, intermediate_size=5504,
          num_hidden_layers=32, num_attention_heads=25,
          num_key_value_heads=5, num_memory_tokens=128,
          sliding_window=1024, global_attn_idx=[0, 15, 31],
          kv_reuse_group=[[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12],
                          [13, 14], [16, 17, 18], [19, 20], [21, 22],
                          [23, 24], [25, 26], [27, 28], [29, 30]],
          mamba_d_state=16, mamba_dt_rank=100, mamba_d_conv=4,
          max_position_embeddings=8192, orig_max_position_embeddings=2048,
          torch_dtype="bfloat16"),
    v_head_dim=128, seq_length=8192, kv_reuse_every_i_layer=-1,
    kv_weight_reuse=False, num_mamba=1, use_mamba_kernels=True,
    conv_dim={str(i): 3200 for i in range(32)})


def get(name):
    """A copy of the preset `name` (KeyError naming the choices if unknown)."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset '{name}' (one of {', '.join(PRESETS)})")
    return copy.deepcopy(PRESETS[name])


preset = get  # the older name
