using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lasthope.Trees.Loading;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// A node of the scoring kernel: its threshold as an order key (see <see cref="OrderKey"/>) and, for each child, a "link": the child's byte offset from the tree's
/// first leaf (low 32 bits) and the byte offset of the slot value the child compares (high 32 bits). Carrying the
/// child's slot with the link takes a load off each step's dependency chain: the walk goes link, slot value,
/// compare, next link, instead of node, slot index, slot value, compare, child. The two links are adjacent so the
/// next link is <c>(&amp;Left)[x &lt;= Threshold ? 0 : 1]</c>, an address computation rather than a branch.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct Node<T>
    where T : unmanaged
{
    public T Threshold;
    public long Left;
    public long Right;
}

/// <summary>
/// The trees of a model flattened for evaluation. Every tree's nodes are contiguous: its internal nodes in the source
/// order, then its leaves in leaf order, so a leaf's index is <c>node - LeafStart[tree]</c>. Leaves point to
/// themselves, which lets a kernel walk every document of a group for exactly <c>Depth[tree]</c> steps without asking
/// whether it has arrived. Per-field arrays serve the scalar paths (explanations, leaf indices); the kernels read the
/// packed <see cref="Node{T}"/> arrays, whose slot offsets are byte offsets, pre-multiplied by
/// <see cref="BlockSize"/>, because a block's slot values are stored slot-major (<c>x[slot * BlockSize + doc]</c>): eight
/// documents in flight at the same node read one cache line.
/// </summary>
internal sealed unsafe class CompiledForest
{
    /// <summary>Documents per block: the unit of preprocessing, of cancellation, and of the reported scored prefix.</summary>
    public const int BlockSize = 64;

    /// <summary>Trees between two cancellation checks.</summary>
    public const int TreeBlockSize = 64;

    private readonly Node<long>[] _nodesD;
    private readonly Node<int>[] _nodesF;

    public CompiledForest(SourceEnsemble source)
    {
        var trees = source.Trees;
        TreeCount = trees.Length;
        FeatureCount = source.FeatureCount;
        RoundInputsToFloat = source.RoundInputsToFloat;

        // Slots: one per (feature, kind) used, grouped by kind so preprocessing runs one tight loop per kind.
        var slotKeys = new HashSet<(SlotKind Kind, int Feature)>();
        foreach (var tree in trees)
        {
            for (var i = 0; i < tree.InternalCount; i++)
            {
                slotKeys.Add((KindOf(tree.DecisionType[i], source.RoundInputsToFloat), tree.Feature[i]));
            }
        }

        if (slotKeys.Count == 0)
        {
            // Leaves read slot 0; a model of constant trees still needs one.
            slotKeys.Add((SlotKind.Plain, 0));
        }

        SlotCount = slotKeys.Count;
        SlotFeature = new int[SlotCount];
        var slotIndex = new Dictionary<(SlotKind, int), int>();
        var ranges = new List<(SlotKind Kind, int Start, int End)>();
        var s = 0;
        foreach (var key in slotKeys.Order())
        {
            slotIndex[key] = s;
            SlotFeature[s] = key.Feature;
            if (ranges.Count == 0 || ranges[^1].Kind != key.Kind)
            {
                ranges.Add((key.Kind, s, s + 1));
            }
            else
            {
                ranges[^1] = (key.Kind, ranges[^1].Start, s + 1);
            }

            s++;
        }

        SlotRanges = [.. ranges];

        var total = trees.Sum(t => t.InternalCount + t.LeafCount);
        NodeCount = total;
        Root = new int[TreeCount];
        Depth = new int[TreeCount];
        LeafStart = new int[TreeCount];
        NodeSlot = new int[total];
        IsCategorical = new bool[total];
        ThresholdD = new double[total];
        ThresholdF = new float[total];
        Left = new int[total];
        Right = new int[total];
        Value = new double[total];
        Cover = new double[total];
        Gain = new double[total];
        CatOffset = new int[total];
        CatLength = new int[total];
        var catBits = new List<uint>();
        LeafIds = new int[total];
        _nodesD = GC.AllocateArray<Node<long>>(total, pinned: true);
        _nodesF = GC.AllocateArray<Node<int>>(total, pinned: true);

        var offset = 0;
        for (var t = 0; t < TreeCount; t++)
        {
            var tree = trees[t];
            var n = tree.InternalCount;
            var leafBase = offset + n;
            Root[t] = offset;
            LeafStart[t] = leafBase;
            Depth[t] = tree.MaxDepth(t);
            HasCategorical |= tree.DecisionType.Any(Decision.IsCategorical);
            int Global(int child) => child >= 0 ? offset + child : leafBase + ~child;

            var catBase = catBits.Count;
            catBits.AddRange(tree.CatBits);
            for (var i = 0; i < n; i++)
            {
                var g = offset + i;
                var type = tree.DecisionType[i];
                var slot = slotIndex[(KindOf(type, source.RoundInputsToFloat), tree.Feature[i])];
                NodeSlot[g] = slot;
                Left[g] = Global(tree.Left[i]);
                Right[g] = Global(tree.Right[i]);
                Cover[g] = tree.InternalCover[i];
                Gain[g] = tree.Gain[i];
                if (Decision.IsCategorical(type))
                {
                    IsCategorical[g] = true;
                    var cat = (int)tree.Threshold[i];
                    CatOffset[g] = catBase + tree.CatBoundaries[cat];
                    CatLength[g] = tree.CatBoundaries[cat + 1] - tree.CatBoundaries[cat];

                    // The numeric kernel never sees categorical nodes; keep their thresholds harmless anyway.
                    ThresholdD[g] = double.NaN;
                    ThresholdF[g] = float.NaN;
                }
                else
                {
                    ThresholdD[g] = tree.Threshold[i];
                    ThresholdF[g] = FloatAtOrBelow(tree.Threshold[i]);
                }
            }

            for (var l = 0; l < tree.LeafCount; l++)
            {
                var g = leafBase + l;
                NodeSlot[g] = 0;
                Left[g] = g;
                Right[g] = g;
                Value[g] = tree.LeafValue[l];
                Cover[g] = tree.LeafCover[l];
                LeafIds[g] = tree.LeafIds?[l] ?? l;
            }

            // LightGBM numbers nodes in split order, not parents first, so expected values need a post-order walk.
            FillExpectedValue(Root[t], LeafStart[t]);
            offset += n + tree.LeafCount;
        }

        CatBits = [.. catBits];
        RootLinkD = new long[TreeCount];
        RootLinkF = new long[TreeCount];
        for (var t = 0; t < TreeCount; t++)
        {
            var end = t + 1 < TreeCount ? Root[t + 1] : total;
            var origin = LeafStart[t];

            // Node offsets are bytes from the tree's first leaf: internal nodes are negative, leaves non-negative, so
            // "some document is not at a leaf yet" is the sign of the OR of the offsets. A leaf links to itself.
            long Link<T>(int node)
                where T : unmanaged =>
                ((long)((node - origin) * sizeof(Node<T>)) << 32) | (uint)(NodeSlot[node] * BlockSize * sizeof(T));

            RootLinkD[t] = Link<long>(Root[t]);
            RootLinkF[t] = Link<int>(Root[t]);
            for (var g = Root[t]; g < end; g++)
            {
                // A leaf's threshold is never read as one (both links point back to the leaf); the 64-bit layout keeps
                // the leaf's value there instead, so the kernel reads it from the line it already has.
                var threshold = g >= origin ? BitConverter.DoubleToInt64Bits(Value[g]) : OrderKey.Of(ThresholdD[g]);
                _nodesD[g] = new Node<long> { Threshold = threshold, Left = Link<long>(Left[g]), Right = Link<long>(Right[g]) };
                _nodesF[g] = new Node<int> { Threshold = OrderKey.Of(ThresholdF[g]), Left = Link<int>(Left[g]), Right = Link<int>(Right[g]) };
            }
        }

        MaxDepth = TreeCount == 0 ? 0 : Depth.Max();
    }

    public int TreeCount { get; }

    public int FeatureCount { get; }

    public int NodeCount { get; }

    public int SlotCount { get; }

    public int MaxDepth { get; }

    public bool HasCategorical { get; }

    public bool RoundInputsToFloat { get; }

    /// <summary>The feature each slot reads.</summary>
    public int[] SlotFeature { get; }

    /// <summary>Slots of one kind are contiguous: (kind, first slot, end).</summary>
    public (SlotKind Kind, int Start, int End)[] SlotRanges { get; }

    public int[] Root { get; }

    /// <summary>Each tree's root as a kernel link (see <see cref="Node{T}"/>), in double and in float layout.</summary>
    public long[] RootLinkD { get; }

    public long[] RootLinkF { get; }

    /// <summary>Edges on the tree's longest root-to-leaf path.</summary>
    public int[] Depth { get; }

    public int[] LeafStart { get; }

    public int[] NodeSlot { get; }

    public bool[] IsCategorical { get; }

    public double[] ThresholdD { get; }

    public float[] ThresholdF { get; }

    public int[] Left { get; }

    public int[] Right { get; }

    /// <summary>A leaf's output, or an internal node's expected output under the training distribution (cover-weighted).</summary>
    public double[] Value { get; }

    /// <summary>Training data count (LightGBM) or hessian sum (XGBoost) reaching the node.</summary>
    public double[] Cover { get; }

    public double[] Gain { get; }

    public int[] CatOffset { get; }

    public int[] CatLength { get; }

    public uint[] CatBits { get; }

    /// <summary>Leaf identifiers of the source format, by node (meaningful at leaves).</summary>
    public int[] LeafIds { get; }

    /// <summary>
    /// The packed nodes for inputs of type T (double: 64-bit order keys; float: 32-bit). The arrays live on the pinned
    /// object heap, so the pointer is stable.
    /// </summary>
    public byte* Nodes<T>()
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(double)
            ? (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_nodesD))
            : (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_nodesF));

    /// <summary>Thresholds in T's precision (float thresholds are rounded down: see <see cref="FloatAtOrBelow"/>).</summary>
    public T Threshold<T>(int node)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? (T)(object)ThresholdD[node] : (T)(object)ThresholdF[node];

    public bool IsLeaf(int tree, int node) => node >= LeafStart[tree];

    /// <summary>The feature a node splits on.</summary>
    public int NodeFeature(int node) => SlotFeature[NodeSlot[node]];

    /// <summary>
    /// The largest float at or below <paramref name="threshold"/>. For a float x, <c>x &lt;= t</c> in double equals
    /// <c>x &lt;= FloatAtOrBelow(t)</c> in float: if x &lt;= t then x, a float not above t, is at most the largest
    /// such float; if x &gt; t then x is above every float at or below t. So float inputs compare exactly in float.
    /// </summary>
    public static float FloatAtOrBelow(double threshold)
    {
        var f = (float)threshold;
        return f > threshold ? MathF.BitDecrement(f) : f;
    }

    private static SlotKind KindOf(byte decisionType, bool xgboost)
    {
        if (Decision.IsCategorical(decisionType))
        {
            return SlotKind.Raw;
        }

        var left = Decision.DefaultLeft(decisionType);
        if (xgboost)
        {
            return left ? SlotKind.FloatLeft : SlotKind.FloatRight;
        }

        return Decision.MissingType(decisionType) switch
        {
            Decision.MissingZero => left ? SlotKind.ZeroLeft : SlotKind.ZeroRight,
            Decision.MissingNaN => left ? SlotKind.NaNLeft : SlotKind.NaNRight,
            _ => SlotKind.Plain,
        };
    }

    /// <summary>Expected output of each internal node: the cover-weighted mean of its children (post-order).</summary>
    private void FillExpectedValue(int root, int leafStart)
    {
        if (root >= leafStart)
        {
            return;
        }

        var stack = new Stack<(int Node, bool ChildrenDone)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (node, done) = stack.Pop();
            if (node >= leafStart)
            {
                continue;
            }

            if (!done)
            {
                stack.Push((node, true));
                stack.Push((Left[node], false));
                stack.Push((Right[node], false));
                continue;
            }

            int l = Left[node], r = Right[node];
            var cover = Cover[node] > 0 ? Cover[node] : Cover[l] + Cover[r];
            Value[node] = cover > 0
                ? ((Cover[l] * Value[l]) + (Cover[r] * Value[r])) / cover
                : (Value[l] + Value[r]) / 2;
        }
    }
}
