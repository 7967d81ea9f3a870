"""casekit: the plumbing of the skin-lesion deep-learning case study.

Datasets (download, verify, load), leak-free grouped splits, synthetic stand-in data,
a decode-once image cache, and (in later modules) models, metrics, plots and reports.
Nothing in casekit is a diagnostic tool.
"""

__version__ = "0.1.0"
