"""workshop-sim: agent-based model of household income under poverty-alleviation workshops."""
