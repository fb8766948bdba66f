// The one host global the core uses, present in pages, workers and Node alike: step timings.
declare const performance: { now(): number };
