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

// --startup N...: start-up time against log length, replaying the whole log vs a snapshot and its tail (see State/StartupTimes.cs).
if (args is ["--startup", ..])
{
    return await Lasthope.Benchmarks.State.StartupTimes.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
