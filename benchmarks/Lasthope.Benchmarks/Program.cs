using BenchmarkDotNet.Running;

// --als-shapes: seconds per ALS iteration on large synthetic shapes (see Factors/AlsShapes.cs).
if (args is ["--als-shapes", ..])
{
    return Lasthope.Benchmarks.Factors.AlsShapes.Run(args[1..]);
}

// --kernel-costs: the unit costs of the two tree kernels behind KernelChoice (see Trees/KernelCosts.cs).
if (args is ["--kernel-costs"])
{
    return Lasthope.Benchmarks.Trees.KernelCosts.Run();
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
