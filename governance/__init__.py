"""model-governance: Git-native, policy-as-code release and evidence system for ML models."""
