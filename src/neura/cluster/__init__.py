"""Scale-out: which process runs what. ``neura serve --role api|media|all`` and ``neura worker`` share
one Redis registry of capabilities (:mod:`neura.cluster.capabilities`); the API routes and validates
against it. :mod:`neura.cluster.local` (engines imported lazily) is for workers and media processes.
"""
