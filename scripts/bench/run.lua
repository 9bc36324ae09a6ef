-- Runs a par.bench batch: parlua scripts/bench/run.lua batch.lua [options] (see --help).
require("par.bench").main(arg)
