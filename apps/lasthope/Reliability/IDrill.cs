namespace Lasthope.Cli.Reliability;

/// <summary>
/// One drill of the suite. A drill starts its own servers in <paramref name="workspace"/> and writes what it measured
/// into <paramref name="result"/> as it goes, so that a drill that fails half-way still reports what it saw.
/// </summary>
public interface IDrill
{
    string Name { get; }

    Task RunAsync(DrillResult result, DrillWorkspace workspace, IProgress<double> progress, CancellationToken cancellationToken);
}
