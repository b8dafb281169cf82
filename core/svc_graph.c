/* GraphService lands with the graph mirror; until then its methods are answered UNIMPLEMENTED by the server's catch-all. */
