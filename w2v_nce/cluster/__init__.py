"""Data-parallel training on a Dask cluster (the `dask` extra), driven by w2v_nce.api.train with a client."""
