"""Entry point of the `w2v-nce` command line; the click application is w2v_nce.cli (`python -m w2v_nce` too)."""
from w2v_nce.cli import main

if __name__ == "__main__":
    main()
