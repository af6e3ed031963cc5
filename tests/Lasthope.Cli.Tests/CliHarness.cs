using Lasthope.Cli;
using Spectre.Console;

namespace Lasthope.Cli.Tests;

/// <summary>Runs the CLI in-process, as the lasthope executable would, capturing what it writes.</summary>
internal static class CliHarness
{
    public static async Task<(int ExitCode, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        var exit = await LasthopeCli.RunAsync(args, new CliContext(output, console, error), TestContext.Current.CancellationToken);
        return (exit, output.ToString(), error.ToString());
    }

    public static string TempDirectory() => Path.Combine(Path.GetTempPath(), "lasthope-cli-" + Guid.NewGuid().ToString("N"));
}
