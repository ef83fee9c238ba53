using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StepSharp.Kernels;

/// <summary>
/// Arrays on the pinned heap, for scratch buffers whose addresses the kernels keep as pointers from one call to the
/// next (no <c>fixed</c> around every use). They grow rarely and never move.
/// </summary>
internal static unsafe class PinnedArrays
{
    /// <summary>Makes <paramref name="array"/> hold at least <paramref name="length"/> items: a new pinned array (at least twice the old size) if it does not; contents are not kept.</summary>
    public static void Grow<T>(ref T[]? array, int length) where T : unmanaged
    {
        if (array is null || array.Length < length)
            array = GC.AllocateUninitializedArray<T>(Math.Max(length, 2 * (array?.Length ?? 0)), pinned: true);
    }

    /// <summary>The address of a pinned array's first item.</summary>
    public static T* Pointer<T>(T[] array) where T : unmanaged => (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
}
