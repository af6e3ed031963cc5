using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lasthope.Trees.Loading;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// A node of the lockstep kernel (<see cref="ForestKernels.AddTreeLockstep"/>): its threshold as an order key (see
/// <see cref="OrderKey"/>) and, for each child, a "link": the child's byte offset from the tree's first leaf (high 32
/// bits) and the byte offset of the slot value the child compares (low 32 bits). Carrying the child's slot with the
/// link takes a load off each step's dependency chain: the walk goes link, slot value, compare, next link, instead of
/// node, slot index, slot value, compare, child. The two links are adjacent so the next link is
/// <c>(&amp;Left)[x &lt;= Threshold ? 0 : 1]</c>, an address computation rather than a branch. A leaf's links point to
/// itself and its threshold field holds the leaf's value.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct LockstepNode
{
    public long Threshold;
    public long Left;
    public long Right;
}

/// <summary>How the scoring kernel evaluates one tree.</summary>
internal enum TreeKernel : byte
{
    /// <summary>Every node of the tree against a group of documents at once, leaves as bits (at most 64 leaves).</summary>
    Bitvector,

    /// <summary>Eight documents walk the tree together, branch-free (numerical trees of more than 64 leaves).</summary>
    Lockstep,

    /// <summary>One document at a time through any node kind (categorical trees of more than 64 leaves).</summary>
    General,
}

/// <summary>
/// The trees of a model flattened for evaluation. Every tree's nodes are contiguous: its internal nodes in the source
/// order, then its leaves in leaf order, so a leaf's index is <c>node - LeafStart[tree]</c>. Per-field arrays serve the
/// scalar paths (explanations, leaf indices). The scoring kernels read layouts of their own, built here once:
/// <list type="bullet">
/// <item>the bitvector layout (<see cref="BitvectorKernels"/>) for trees of at most 64 leaves: per internal node its
/// slot's byte offset, its threshold key and the mask of leaves that survive when a document goes right; per tree its
/// leaf values in left-to-right order;</item>
/// <item>the lockstep layout (<see cref="LockstepNode"/>) for larger numerical trees.</item>
/// </list>
/// Slot keys of a block of documents are stored by groups of <see cref="KeyGroup"/> documents, slot-major within a
/// group (<see cref="KeyIndex"/>); slot offsets in both layouts are byte offsets from the start of a group's keys.
/// </summary>
internal sealed unsafe class CompiledForest
{
    /// <summary>Documents per block: the unit of preprocessing, of cancellation, and of the reported scored prefix.</summary>
    public const int BlockSize = 64;

    /// <summary>
    /// Documents whose keys are stored together: a block's keys are group-major, then slot-major, then by document
    /// (<see cref="KeyIndex"/>), so one group's keys for all slots are contiguous (300 slots: 38 KB, about L1) and a
    /// node's test for the group reads two adjacent cache lines.
    /// </summary>
    public const int KeyGroup = 16;

    /// <summary>Trees between two cancellation checks.</summary>
    public const int TreeBlockSize = 64;

    /// <summary>Most leaves a tree may have for the bitvector kernel: one bit per leaf in a 64-bit word.</summary>
    public const int BitvectorMaxLeaves = 64;

    private readonly LockstepNode[] _lockstepNodes;
    private ShapLayout? _shap;

    /// <param name="source">The trees.</param>
    /// <param name="force">
    /// Score every tree with this kernel where it can (tests and benchmarks compare the kernels): the bitvector kernel
    /// takes trees of up to 64 leaves, the lockstep kernel numerical trees, the general kernel every tree.
    /// </param>
    public CompiledForest(SourceEnsemble source, TreeKernel? force = null)
    {
        var trees = source.Trees;
        TreeCount = trees.Length;
        FeatureCount = source.FeatureCount;
        ClassCount = source.ClassCount;
        TreeClass = new int[TreeCount];
        for (var t = 0; t < TreeCount; t++)
        {
            TreeClass[t] = source.TreeClass?[t] ?? (t % ClassCount);
        }

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
        Kernel = new TreeKernel[TreeCount];
        NodeSlot = GC.AllocateArray<int>(total, pinned: true);
        IsCategorical = GC.AllocateArray<bool>(total, pinned: true);
        ThresholdKey = GC.AllocateArray<long>(total, pinned: true);
        Left = new int[total];
        Right = new int[total];
        Value = new double[total];
        Cover = new double[total];
        Gain = new double[total];
        CatOffset = new int[total];
        CatLength = new int[total];
        var catBits = new List<uint>();
        LeafIds = new int[total];
        TreeBias = new double[TreeCount];

        var offset = 0;
        for (var t = 0; t < TreeCount; t++)
        {
            var tree = trees[t];
            var n = tree.InternalCount;
            var leafBase = offset + n;
            Root[t] = offset;
            LeafStart[t] = leafBase;
            Depth[t] = tree.MaxDepth(t);
            var categorical = tree.DecisionType.Any(Decision.IsCategorical);
            HasCategorical |= categorical;
            Kernel[t] = tree.LeafCount <= BitvectorMaxLeaves ? TreeKernel.Bitvector : categorical ? TreeKernel.General : TreeKernel.Lockstep;
            Kernel[t] = force switch
            {
                TreeKernel.General => TreeKernel.General,
                TreeKernel.Lockstep when !categorical => TreeKernel.Lockstep,
                TreeKernel.Lockstep => TreeKernel.General,
                _ => Kernel[t],
            };
            int Global(int child) => child >= 0 ? offset + child : leafBase + ~child;

            var catBase = catBits.Count;
            catBits.AddRange(tree.CatBits);
            for (var i = 0; i < n; i++)
            {
                var g = offset + i;
                var type = tree.DecisionType[i];
                NodeSlot[g] = slotIndex[(KindOf(type, source.RoundInputsToFloat), tree.Feature[i])];
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

                    // The numeric comparison never sees categorical nodes; keep their thresholds harmless anyway.
                    ThresholdKey[g] = long.MaxValue;
                }
                else
                {
                    ThresholdKey[g] = OrderKey.Of(tree.Threshold[i]);
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
            TreeBias[t] = Bias(tree);
            offset += n + tree.LeafCount;
        }

        CatBits = [.. catBits];
        MaxDepth = TreeCount == 0 ? 0 : Depth.Max();
        (Bitvector, _lockstepNodes, RootLink) = (BuildBitvector(), BuildLockstep(), BuildRootLinks());
    }

    public int TreeCount { get; }

    public int FeatureCount { get; }

    /// <summary>Outputs per document: the number of classes of a multiclass model, else 1.</summary>
    public int ClassCount { get; }

    /// <summary>The output (class) each tree adds to.</summary>
    public int[] TreeClass { get; }

    public int NodeCount { get; }

    public int SlotCount { get; }

    public int MaxDepth { get; }

    public bool HasCategorical { get; }

    /// <summary>The feature each slot reads.</summary>
    public int[] SlotFeature { get; }

    /// <summary>Slots of one kind are contiguous: (kind, first slot, end).</summary>
    public (SlotKind Kind, int Start, int End)[] SlotRanges { get; }

    public int[] Root { get; }

    /// <summary>Edges on the tree's longest root-to-leaf path.</summary>
    public int[] Depth { get; }

    public int[] LeafStart { get; }

    /// <summary>Which kernel scores each tree.</summary>
    public TreeKernel[] Kernel { get; }

    public int[] NodeSlot { get; }

    public bool[] IsCategorical { get; }

    /// <summary>Pointers into the pinned copies of <see cref="NodeSlot"/>, <see cref="ThresholdKey"/> and <see cref="IsCategorical"/>, for scalar kernels.</summary>
    public int* NodeSlotPointer => Pin.Of(NodeSlot);

    public long* ThresholdKeyPointer => Pin.Of(ThresholdKey);

    public bool* IsCategoricalPointer => Pin.Of(IsCategorical);

    /// <summary>A numerical node's threshold as an order key (see <see cref="OrderKey"/>); go left when key &lt;= it.</summary>
    public long[] ThresholdKey { get; }

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
    /// Each tree's expected output over its training data, computed as LightGBM's Tree::ExpectedValue does (the sum over
    /// leaves of leaf_count / internal_count[root] * value, in leaf order): the tree's share of the SHAP bias.
    /// </summary>
    public double[] TreeBias { get; }

    /// <summary>The bitvector kernel's layout (trees whose <see cref="Kernel"/> is <see cref="TreeKernel.Bitvector"/>).</summary>
    public BitvectorLayout Bitvector { get; }

    /// <summary>TreeSHAP's precomputed paths, built on first use (most models are never explained).</summary>
    public ShapLayout Shap => _shap ?? CreateShap();

    /// <summary>Each tree's root as a lockstep link (see <see cref="LockstepNode"/>).</summary>
    public long[] RootLink { get; }

    /// <summary>The lockstep nodes, indexed as the per-field arrays. The array is pinned, so the pointer is stable.</summary>
    public LockstepNode* LockstepNodes => (LockstepNode*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_lockstepNodes));

    public bool IsLeaf(int tree, int node) => node >= LeafStart[tree];

    /// <summary>Where slot <paramref name="slot"/> of document <paramref name="doc"/> of a block is among its keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public nint KeyIndex(int slot, int doc) => (((nint)(doc / KeyGroup) * SlotCount) + slot) * KeyGroup + (doc % KeyGroup);

    /// <summary>The feature a node splits on.</summary>
    public int NodeFeature(int node) => SlotFeature[NodeSlot[node]];

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

    /// <summary>LightGBM's Tree::ExpectedValue (src/io/tree.cpp): the count-weighted mean of the leaves, in leaf order.</summary>
    private static double Bias(SourceTree tree)
    {
        if (tree.InternalCount == 0)
        {
            return tree.LeafValue[0];
        }

        var total = tree.InternalCover[0];
        var bias = 0.0;
        for (var l = 0; l < tree.LeafCount; l++)
        {
            bias += tree.LeafCover[l] / total * tree.LeafValue[l];
        }

        return bias;
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

    /// <summary>
    /// Numbers each tree's leaves left to right and gives every internal node the mask of leaves that stay possible when
    /// a document goes right there: all but its left subtree. Leaf r of a tree is bit 63 - r, so the exit leaf, the
    /// leftmost leaf no node ruled out, is the word's count of leading zeros. Numerical nodes come first in each tree's
    /// range and categorical ones after, so the kernel's numerical loop has no branch on the node's kind.
    /// </summary>
    private BitvectorLayout BuildBitvector()
    {
        var nodeStart = new int[TreeCount + 1];
        var categoricalStart = new int[TreeCount + 1];
        var leafStart = new int[TreeCount + 1];
        var nodes = new List<BitvectorNode>();
        var leafValues = new List<double>();
        for (var t = 0; t < TreeCount; t++)
        {
            nodeStart[t] = nodes.Count;
            leafStart[t] = leafValues.Count;
            if (Kernel[t] != TreeKernel.Bitvector)
            {
                categoricalStart[t] = nodes.Count;
                continue;
            }

            // In-order walk: a node's left subtree holds the leaves numbered [first, end).
            var leftRange = new Dictionary<int, (int First, int End)>();
            var order = new List<int>();
            Number(Root[t]);
            (int First, int End) Number(int node)
            {
                if (IsLeaf(t, node))
                {
                    order.Add(node);
                    return (order.Count - 1, order.Count);
                }

                var left = Number(Left[node]);
                var right = Number(Right[node]);
                leftRange[node] = left;
                return (left.First, right.End);
            }

            for (var pass = 0; pass < 2; pass++)
            {
                var categorical = pass == 1;
                if (categorical)
                {
                    categoricalStart[t] = nodes.Count;
                }

                for (var g = Root[t]; g < LeafStart[t]; g++)
                {
                    if (IsCategorical[g] != categorical)
                    {
                        continue;
                    }

                    // Leaf r is bit 63 - r: the left subtree's leaves [first, end) are bits [64 - end, 63 - first].
                    var (first, end) = leftRange[g];
                    var leftLeaves = ((1UL << (end - first)) - 1) << (64 - end);
                    nodes.Add(new BitvectorNode
                    {
                        Key = ThresholdKey[g],
                        Keep = ~leftLeaves,
                        SlotOffset = NodeSlot[g] * KeyGroup * sizeof(long),
                        Node = g,
                    });
                }
            }

            leafValues.AddRange(order.Select(node => Value[node]));
        }

        nodeStart[TreeCount] = categoricalStart[TreeCount] = nodes.Count;
        leafStart[TreeCount] = leafValues.Count;
        return new BitvectorLayout(Pinned(nodeStart), Pinned(categoricalStart), Pinned(leafStart), Pinned(nodes), Pinned(leafValues));
    }

    private ShapLayout CreateShap()
    {
        // Two threads may both build it; one result is kept, and they are equal.
        Interlocked.CompareExchange(ref _shap, new ShapLayout(this), null);
        return _shap;
    }

    private LockstepNode[] BuildLockstep()
    {
        var nodes = GC.AllocateArray<LockstepNode>(NodeCount, pinned: true);
        for (var t = 0; t < TreeCount; t++)
        {
            if (Kernel[t] != TreeKernel.Lockstep)
            {
                continue;
            }

            var end = t + 1 < TreeCount ? Root[t + 1] : NodeCount;
            for (var g = Root[t]; g < end; g++)
            {
                var threshold = g >= LeafStart[t] ? BitConverter.DoubleToInt64Bits(Value[g]) : ThresholdKey[g];
                nodes[g] = new LockstepNode { Threshold = threshold, Left = Link(t, Left[g]), Right = Link(t, Right[g]) };
            }
        }

        return nodes;
    }

    private long[] BuildRootLinks()
    {
        var links = new long[TreeCount];
        for (var t = 0; t < TreeCount; t++)
        {
            links[t] = Link(t, Root[t]);
        }

        return links;
    }

    /// <summary>
    /// Node offsets are bytes from the tree's first leaf: internal nodes are negative, leaves non-negative, so "some
    /// document is not at a leaf yet" is the sign of the OR of the links. A leaf links to itself.
    /// </summary>
    private long Link(int tree, int node) =>
        ((long)((node - LeafStart[tree]) * sizeof(LockstepNode)) << 32) | (uint)(NodeSlot[node] * KeyGroup * sizeof(long));

    private static T[] Pinned<T>(IReadOnlyCollection<T> values)
        where T : unmanaged
    {
        var array = GC.AllocateArray<T>(Math.Max(1, values.Count), pinned: true);
        var i = 0;
        foreach (var value in values)
        {
            array[i++] = value;
        }

        return array;
    }
}

/// <summary>One internal node of the bitvector layout (24 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 8)]
internal struct BitvectorNode
{
    /// <summary>The threshold as an order key: a document goes right when its key is greater.</summary>
    public long Key;

    /// <summary>The leaves that stay possible when a document goes right: all but the node's left subtree.</summary>
    public ulong Keep;

    /// <summary>Byte offset of the node's slot in a block's keys.</summary>
    public int SlotOffset;

    /// <summary>The node's index in the per-field arrays (for a categorical node's bitset).</summary>
    public int Node;
}

/// <summary>
/// The bitvector kernel's arrays. Tree t's nodes are <c>[NodeStart[t], NodeStart[t + 1])</c>, numerical ones up to
/// <c>CategoricalStart[t]</c>; its leaf values, left to right, start at <c>LeafStart[t]</c>. The arrays are pinned and
/// the kernel reads them through raw pointers: a <c>fixed</c> local is a GC-tracked pin that the JIT keeps in memory,
/// and reloads, in the node loop.
/// </summary>
internal sealed unsafe class BitvectorLayout
{
    private readonly int[] _nodeStart;
    private readonly int[] _categoricalStart;
    private readonly int[] _leafStart;
    private readonly BitvectorNode[] _nodes;
    private readonly double[] _leafValue;

    public BitvectorLayout(int[] nodeStart, int[] categoricalStart, int[] leafStart, BitvectorNode[] nodes, double[] leafValue)
    {
        (_nodeStart, _categoricalStart, _leafStart, _nodes, _leafValue) = (nodeStart, categoricalStart, leafStart, nodes, leafValue);
        NodeStart = Address(nodeStart);
        CategoricalStart = Address(categoricalStart);
        LeafStart = Address(leafStart);
        Nodes = Address(nodes);
        LeafValue = Address(leafValue);
    }

    public int* NodeStart { get; }

    public int* CategoricalStart { get; }

    public int* LeafStart { get; }

    public BitvectorNode* Nodes { get; }

    public double* LeafValue { get; }

    private static T* Address<T>(T[] pinned)
        where T : unmanaged => (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
}
