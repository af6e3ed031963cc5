using System.Runtime.CompilerServices;

// The tests check the kernel's number tricks (order keys, float thresholds) directly, as properties.
[assembly: InternalsVisibleTo("Lasthope.Trees.Tests")]

// The benchmarks time each scoring kernel against lib_lightgbm in the same run.
[assembly: InternalsVisibleTo("Lasthope.Benchmarks")]
