using System.CommandLine;
using Lasthope.Factors;

namespace Lasthope.Cli.Commands;

/// <summary>The model file option of recommend and similar, and loading it with one-line errors.</summary>
internal static class AlsModelFile
{
    public static Option<string> ModelFileOption() => new("--model", "-m") { Description = "The model file (.lhals) written by train-als.", DefaultValueFactory = _ => "model.lhals" };

    public static Option<int> CountOption() => new("--count", "-n") { Description = "How many items.", DefaultValueFactory = _ => 10 };

    public static bool TryLoadModel(string path, CliContext context, out AlsModel model, out int failure)
    {
        model = null!;
        failure = ExitCodes.Ok;
        try
        {
            model = AlsModel.Load(path);
            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            failure = context.Fail(ExitCodes.NotFound, $"model file {path} does not exist.");
        }
        catch (InvalidDataException e)
        {
            failure = context.Fail(ExitCodes.BadInput, $"{path}: {e.Message}");
        }
        catch (IOException e)
        {
            failure = context.Fail(ExitCodes.Failure, $"cannot read {path}: {e.Message}");
        }

        return false;
    }
}
