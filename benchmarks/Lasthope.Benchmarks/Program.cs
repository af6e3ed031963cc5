using BenchmarkDotNet.Running;

// --als-shapes: seconds per ALS iteration on large synthetic shapes (see Factors/AlsShapes.cs).
if (args is ["--als-shapes", ..])
{
    return Lasthope.Benchmarks.Factors.AlsShapes.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
