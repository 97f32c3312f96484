"""Per-field text classification: pluggable tokenizer / features / classifier."""
