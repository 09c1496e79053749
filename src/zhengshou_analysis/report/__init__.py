"""Reports: the notebook session, views, plots, the work summary and the batch."""
