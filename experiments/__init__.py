"""The experiment layer: running scenarios, storing, analysing and plotting results."""
