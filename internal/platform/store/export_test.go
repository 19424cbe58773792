package store

// PreparedCount is how many statements s holds prepared (for tests).
func PreparedCount(s *Stmts) int { return len(s.prepared) }

// MaxPrepared is the bound on prepared statements (for tests).
const MaxPrepared = maxPrepared
