using Lasthope.Core.Storage;
using Lasthope.Server.Models;
using Lasthope.Text;
using Lasthope.Text.EditNeed;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Text;

/// <summary>A text model loaded for serving, with the version it was registered as.</summary>
public sealed record ServedTextModel(TextModel Model, string Version) : IServedPackage
{
    public string Name => Model.Name;
}

/// <summary>
/// Registered text models and which version of each name serves <c>/v1/text/{name}</c>: kind <c>text</c> in the model
/// store, the active version under <c>text:NAME</c> (see <see cref="PackageRegistry{T}"/>). The encoder is the host's
/// (<see cref="ITextEncoder"/>, absent from a host without Lasthope.Text.Encoder): a model whose encoder the host lacks
/// is served by its baseline alone, with <c>no_model</c>.
/// </summary>
public sealed class TextModelRegistry(IModelStore store, TimeProvider time, ILogger<TextModelRegistry> logger, ITextEncoder? encoder = null)
    : PackageRegistry<ServedTextModel>(ModelKinds.Text, store, time, logger)
{
    public override bool Recognises(ReadOnlySpan<byte> content) => TextModel.IsPackage(content);

    protected override string NameOf(byte[] content) => Load(content, "name").Name;

    protected override ServedTextModel Load(byte[] content, string version)
    {
        try
        {
            return new ServedTextModel(TextModel.Load(content, encoder), version);
        }
        catch (TextModelException e)
        {
            throw new ModelRejectedException(e.Message, e);
        }
    }

    /// <summary>One short text through both families, so that ML.NET's pipeline and the ONNX session are ready.</summary>
    protected override void WarmUp(ServedTextModel package)
    {
        var output = new double[package.Model.Outputs];
        package.Model.Baseline.Score(["warm up"], output);
        package.Model.Encoder?.Score(["warm up"], output);
    }
}

/// <summary>The edit-need model loaded for serving (one per server: <c>/v1/text/edit-need</c>).</summary>
public sealed record ServedEditNeedModel(EditNeedModel Model, string Version, int BudgetMs = ServedEditNeedModel.DefaultBudgetMs) : IServedPackage
{
    public const string ModelName = "edit-need";

    /// <summary>The encoder's budget: a document is many units, so it is larger than a single text's.</summary>
    public const int DefaultBudgetMs = 200;

    public string Name => ModelName;
}

/// <summary>Registered edit-need models (kind <c>edit-need</c>, the active version under <c>edit-need:edit-need</c>).</summary>
public sealed class EditNeedRegistry(IModelStore store, TimeProvider time, ILogger<EditNeedRegistry> logger, ITextEncoder? encoder = null)
    : PackageRegistry<ServedEditNeedModel>(ModelKinds.EditNeed, store, time, logger)
{
    public override bool Recognises(ReadOnlySpan<byte> content)
    {
        var head = content[..Math.Min(content.Length, 256)];
        return head.TrimStart(" \t\r\n"u8).StartsWith("{"u8) && head.IndexOf("lasthope-edit-need/"u8) >= 0;
    }

    protected override string NameOf(byte[] content) => Load(content, "name").Name;

    protected override ServedEditNeedModel Load(byte[] content, string version)
    {
        try
        {
            return new ServedEditNeedModel(EditNeedModel.Load(content, encoder), version);
        }
        catch (EditNeedModelException e)
        {
            throw new ModelRejectedException(e.Message, e);
        }
    }

    protected override void WarmUp(ServedEditNeedModel package)
    {
        package.Model.Predict("Warm up the model. It has two sentences.", useEncoder: true);
        package.Model.Predict("Warm up the model. It has two sentences.", useEncoder: false);
    }
}
