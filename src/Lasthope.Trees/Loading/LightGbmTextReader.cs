using System.Globalization;

namespace Lasthope.Trees.Loading;

/// <summary>
/// Reads LightGBM's text model (what <c>Booster.save_model</c> writes; src/boosting/gbdt_model_text.cpp and
/// src/io/tree.cpp upstream). Layout: a header of <c>key=value</c> lines after the line <c>tree</c>; then blocks
/// <c>Tree=i</c> of <c>key=value</c> arrays separated by blank lines; then <c>end of trees</c>; then feature
/// importances and an optional <c>parameters:</c> ... <c>end of parameters</c> section. A file that stops before
/// <c>end of trees</c>, or inside the parameters section, is truncated and refused.
/// </summary>
internal static class LightGbmTextReader
{
    private const string EndOfTrees = "end of trees";

    public static SourceEnsemble Read(string text)
    {
        var reader = new LineReader(text);
        if (!reader.TryNext(out var first) || first.Trim().ToString() != "tree")
        {
            throw ModelLoadException.Corrupt("Not a LightGBM text model: the first line is not 'tree'.");
        }

        var header = new Dictionary<string, string>(StringComparer.Ordinal);
        ReadOnlySpan<char> line = default;
        var sawTree = false;
        var sawEnd = false;
        while (reader.TryNext(out line))
        {
            if (line.StartsWith("Tree=", StringComparison.Ordinal))
            {
                sawTree = true;
                break;
            }

            if (line.SequenceEqual(EndOfTrees))
            {
                sawEnd = true;
                break;
            }

            if (line.IsEmpty)
            {
                continue;
            }

            var eq = line.IndexOf('=');
            if (eq < 0)
            {
                header[line.ToString()] = "";
            }
            else
            {
                header[line[..eq].ToString()] = line[(eq + 1)..].ToString();
            }
        }

        var version = Get(header, "version") ?? throw ModelLoadException.Corrupt("The header has no 'version' line.");
        if (version is not ("v3" or "v4"))
        {
            throw ModelLoadException.Unsupported($"LightGBM model format '{version}' is not supported (v3 and v4 are).");
        }

        var numClass = ParseHeaderInt(header, "num_class", 1);
        var perIteration = ParseHeaderInt(header, "num_tree_per_iteration", 1);
        if (numClass < 1 || perIteration != numClass)
        {
            throw ModelLoadException.Corrupt($"num_class={numClass} but num_tree_per_iteration={perIteration}: a model has one tree per class per iteration.");
        }

        var maxFeature = ParseHeaderInt(header, "max_feature_idx", -1);
        if (maxFeature < 0)
        {
            throw ModelLoadException.Corrupt("The header has no valid 'max_feature_idx'.");
        }

        var featureCount = maxFeature + 1;
        var names = Get(header, "feature_names") is { } fn
            ? fn.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            : Enumerable.Range(0, featureCount).Select(i => $"Column_{i}").ToArray();
        if (names.Length != featureCount)
        {
            throw ModelLoadException.Corrupt($"feature_names has {names.Length} names but max_feature_idx says {featureCount} features.");
        }

        var (objective, transform, sigmoid) = ParseObjective(Get(header, "objective") ?? "", numClass);
        var expectedTrees = Get(header, "tree_sizes") is { } sizes ? Numbers.CountTokens(sizes) : -1;

        var blocks = new List<Dictionary<string, ReadOnlyMemory<char>>>();
        while (sawTree)
        {
            var index = Numbers.ParseInt(line["Tree=".Length..], "Tree=");
            if (index != blocks.Count)
            {
                throw ModelLoadException.Corrupt($"Expected Tree={blocks.Count}, found Tree={index}.");
            }

            // Values stay slices of the text: a 500-tree model has megabytes of number lists, parsed in place.
            var block = new Dictionary<string, ReadOnlyMemory<char>>(StringComparer.Ordinal);
            sawTree = false;
            while (reader.TryNext(out line))
            {
                if (line.StartsWith("Tree=", StringComparison.Ordinal))
                {
                    sawTree = true;
                    break;
                }

                if (line.SequenceEqual(EndOfTrees))
                {
                    sawEnd = true;
                    break;
                }

                if (line.IsEmpty)
                {
                    continue;
                }

                var eq = line.IndexOf('=');
                if (eq < 0)
                {
                    throw ModelLoadException.Corrupt($"Tree {index}: line '{Shorten(line)}' is not key=value.");
                }

                block[line[..eq].ToString()] = text.AsMemory(reader.LineStart + eq + 1, line.Length - eq - 1);
            }

            if (!sawTree && !sawEnd)
            {
                throw ModelLoadException.Truncated($"The model is truncated: tree {index} is not followed by another tree or 'end of trees'.");
            }

            blocks.Add(block);
        }

        if (!sawEnd)
        {
            throw ModelLoadException.Truncated("The model is truncated: 'end of trees' is missing.");
        }

        if (expectedTrees >= 0 && expectedTrees != blocks.Count)
        {
            throw ModelLoadException.Corrupt($"tree_sizes lists {expectedTrees} trees but the file has {blocks.Count}.");
        }

        if (blocks.Count % numClass != 0)
        {
            throw ModelLoadException.Corrupt($"The model has {blocks.Count} trees, not a whole number of iterations of {numClass} classes.");
        }

        var boosting = "gbdt";
        var sawParameters = false;
        var sawParametersEnd = false;
        while (reader.TryNext(out line))
        {
            if (line.SequenceEqual("parameters:"))
            {
                sawParameters = true;
            }
            else if (line.SequenceEqual("end of parameters"))
            {
                sawParametersEnd = true;
            }
            else if (sawParameters && !sawParametersEnd && line.StartsWith("[boosting: ", StringComparison.Ordinal))
            {
                boosting = line["[boosting: ".Length..].TrimEnd(']').ToString();
            }
            else if (sawParameters && !sawParametersEnd && line.SequenceEqual("[linear_tree: 1]"))
            {
                throw ModelLoadException.Unsupported("Linear trees are not supported (the model was trained with linear_tree=true).");
            }
        }

        if (sawParameters && !sawParametersEnd)
        {
            throw ModelLoadException.Truncated("The model is truncated: 'parameters:' has no 'end of parameters'.");
        }

        // Trees parse independently; most of a large model's load time is number parsing, so spread it over the cores
        // (as LightGBM's own loader does). The first error in tree order is the one reported.
        var trees = new SourceTree[blocks.Count];
        var errors = new ModelLoadException?[blocks.Count];
        Parallel.For(0, blocks.Count, t =>
        {
            try
            {
                trees[t] = ReadTree(t, blocks[t]);
                trees[t].Validate(t, featureCount);
            }
            catch (ModelLoadException e)
            {
                errors[t] = e;
            }
        });
        if (errors.FirstOrDefault(e => e is not null) is { } error)
        {
            throw error;
        }

        return new SourceEnsemble
        {
            Format = ModelFormat.LightGbmText,
            Objective = objective,
            Transform = transform,
            SigmoidScale = sigmoid,
            FeatureCount = featureCount,
            FeatureNames = names,
            Trees = trees,
            ClassCount = numClass,
            AverageOutput = header.ContainsKey("average_output"),
            Boosting = boosting,
            FormatVersion = version,
        };
    }

    private static SourceTree ReadTree(int index, Dictionary<string, ReadOnlyMemory<char>> block)
    {
        var context = $"Tree {index}";
        if (block.TryGetValue("is_linear", out var linear) && !linear.Span.Trim().SequenceEqual("0"))
        {
            throw ModelLoadException.Unsupported($"Linear trees are not supported (tree {index} has is_linear={linear}).");
        }

        var leaves = Numbers.ParseInt(Require(block, index, "num_leaves"), $"{context} num_leaves");
        if (leaves < 1)
        {
            throw ModelLoadException.Corrupt($"{context}: num_leaves={leaves}.");
        }

        var leafValue = Numbers.ParseDoubles(Require(block, index, "leaf_value"), leaves, $"{context} leaf_value");
        if (Array.FindIndex(leafValue, v => !double.IsFinite(v)) is var bad and >= 0)
        {
            throw ModelLoadException.Corrupt($"{context} leaf_value: {leafValue[bad]} is not a finite score.");
        }
        if (leaves == 1)
        {
            return new SourceTree
            {
                Left = [],
                Right = [],
                Feature = [],
                Threshold = [],
                DecisionType = [],
                Gain = [],
                InternalCover = [],
                LeafValue = leafValue,
                LeafCover = block.TryGetValue("leaf_count", out var lc) && !lc.Span.IsWhiteSpace()
                    ? Numbers.ParseDoubles(lc.Span, 1, $"{context} leaf_count")
                    : [0.0],
            };
        }

        var n = leaves - 1;
        var numCat = block.TryGetValue("num_cat", out var nc) ? Numbers.ParseInt(nc.Span, $"{context} num_cat") : 0;
        // Like LightGBM's own reader, a tree without decision_type splits numerically with no missing handling, and one
        // without counts has no covers (it scores, but TreeSHAP, which weighs by cover, refuses it).
        var decisionInts = block.TryGetValue("decision_type", out var dt) ? Numbers.ParseInts(dt.Span, n, $"{context} decision_type") : new int[n];
        var decision = new byte[n];
        for (var i = 0; i < n; i++)
        {
            if (decisionInts[i] is < 0 or > 15)
            {
                throw ModelLoadException.Corrupt($"{context} decision_type: {decisionInts[i]} is not a valid decision type.");
            }

            decision[i] = (byte)decisionInts[i];
        }

        int[] catBoundaries = [];
        uint[] catBits = [];
        if (numCat > 0)
        {
            catBoundaries = Numbers.ParseInts(Require(block, index, "cat_boundaries"), numCat + 1, $"{context} cat_boundaries");
            var bitsText = Require(block, index, "cat_threshold");
            var bits = Numbers.ParseDoubles(bitsText, catBoundaries[^1], $"{context} cat_threshold");
            catBits = new uint[bits.Length];
            for (var i = 0; i < bits.Length; i++)
            {
                if (bits[i] is < 0 or > uint.MaxValue || bits[i] != Math.Floor(bits[i]))
                {
                    throw ModelLoadException.Corrupt($"{context} cat_threshold: {bits[i]} is not a 32-bit word.");
                }

                catBits[i] = (uint)bits[i];
            }
        }
        else if (decision.Any(Decision.IsCategorical))
        {
            throw ModelLoadException.Corrupt($"{context} has categorical splits but num_cat=0.");
        }

        return new SourceTree
        {
            Left = Numbers.ParseInts(Require(block, index, "left_child"), n, $"{context} left_child"),
            Right = Numbers.ParseInts(Require(block, index, "right_child"), n, $"{context} right_child"),
            Feature = Numbers.ParseInts(Require(block, index, "split_feature"), n, $"{context} split_feature"),
            Threshold = Numbers.ParseDoubles(Require(block, index, "threshold"), n, $"{context} threshold"),
            DecisionType = decision,
            Gain = block.TryGetValue("split_gain", out var gain) ? Numbers.ParseDoubles(gain.Span, n, $"{context} split_gain") : new double[n],
            InternalCover = block.TryGetValue("internal_count", out var ic) ? Numbers.ParseDoubles(ic.Span, n, $"{context} internal_count") : new double[n],
            LeafValue = leafValue,
            LeafCover = block.TryGetValue("leaf_count", out var lcount) ? Numbers.ParseDoubles(lcount.Span, leaves, $"{context} leaf_count") : new double[leaves],
            CatBoundaries = catBoundaries,
            CatBits = catBits,
        };
    }

    /// <summary>
    /// The objective line is the objective's name followed by its options (<c>binary sigmoid:1</c>,
    /// <c>regression sqrt</c>, <c>multiclass num_class:3</c>, <c>multiclassova num_class:3 sigmoid:1</c>); the output
    /// transform follows LightGBM's ObjectiveFunction::ConvertOutput (src/objective/*.hpp): softmax for multiclass,
    /// a sigmoid per class for one-vs-all.
    /// </summary>
    private static (string Objective, OutputTransform Transform, double Sigmoid) ParseObjective(string line, int classes)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return ("none", OutputTransform.Identity, 1.0);
        }

        var name = parts[0];
        var sigmoid = 1.0;
        foreach (var part in parts.Skip(1))
        {
            if (part.StartsWith("sigmoid:", StringComparison.Ordinal))
            {
                sigmoid = Numbers.ParseDouble(part.AsSpan("sigmoid:".Length), "objective sigmoid");
            }
        }

        var transform = name switch
        {
            "lambdarank" or "rank_xendcg" or "regression_l1" or "huber" or "fair" or "quantile" or "mape" or "custom" or "none" =>
                OutputTransform.Identity,
            "regression" => parts.Contains("sqrt") ? OutputTransform.SignedSquare : OutputTransform.Identity,
            "binary" or "cross_entropy" => OutputTransform.Sigmoid,
            "poisson" or "gamma" or "tweedie" => OutputTransform.Exponential,
            "multiclass" => OutputTransform.Softmax,
            "multiclassova" => OutputTransform.Sigmoid,
            _ => throw ModelLoadException.Unsupported($"The objective '{name}' is not supported."),
        };
        if (name == "cross_entropy")
        {
            sigmoid = 1.0;
        }

        if (!(double.IsFinite(sigmoid) && sigmoid > 0))
        {
            throw ModelLoadException.Corrupt($"The objective's sigmoid:{sigmoid} is not a positive number.");
        }

        if ((name is "multiclass" or "multiclassova") != (classes > 1))
        {
            throw ModelLoadException.Corrupt($"The objective '{name}' does not go with num_class={classes}.");
        }

        return (line.Trim(), transform, sigmoid);
    }

    private static string? Get(Dictionary<string, string> header, string key) => header.TryGetValue(key, out var v) ? v : null;

    private static int ParseHeaderInt(Dictionary<string, string> header, string key, int fallback) =>
        header.TryGetValue(key, out var v) ? Numbers.ParseInt(v, key) : fallback;

    private static ReadOnlySpan<char> Require(Dictionary<string, ReadOnlyMemory<char>> block, int index, string key) =>
        block.TryGetValue(key, out var v) ? v.Span : throw ModelLoadException.Corrupt($"Tree {index} has no '{key}' line.");

    private static string Shorten(ReadOnlySpan<char> line) =>
        line.Length <= 40 ? line.ToString() : string.Create(CultureInfo.InvariantCulture, $"{line[..40]}...");

    /// <summary>Lines of a string without allocating, with <c>\r\n</c> and <c>\n</c> endings; each line also as its offset.</summary>
    private ref struct LineReader
    {
        private readonly string _text;
        private int _position;

        public LineReader(string text) => _text = text;

        public int LineStart { get; private set; }

        public bool TryNext(out ReadOnlySpan<char> line)
        {
            if (_position >= _text.Length)
            {
                line = default;
                return false;
            }

            LineStart = _position;
            var rest = _text.AsSpan(_position);
            var nl = rest.IndexOf('\n');
            line = nl < 0 ? rest : rest[..nl];
            _position += nl < 0 ? rest.Length : nl + 1;
            if (!line.IsEmpty && line[^1] == '\r')
            {
                line = line[..^1];
            }

            return true;
        }
    }
}
