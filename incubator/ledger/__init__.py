"""The ledger of money and credits (see ``models``) and the signals about payments (see ``signals``)."""
