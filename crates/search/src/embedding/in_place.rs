//! What the encoder's in-place steps (`dense`, `softmax`) share: reaching a CPU tensor's values
//! and running over its rows on candle's thread pool.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, Layout, Result};
use rayon::prelude::*;

/// Values per parallel task: a smaller tensor (a query's) is handled on the calling thread,
/// not worth waking the pool for.
const CHUNK: usize = 32 * 1024;

/// The values of a contiguous f32 tensor.
pub(super) fn values<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    let CpuStorage::F32(values) = storage else {
        candle_core::bail!("the encoder works in f32, not {:?}", storage.dtype());
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("the encoder's in-place steps read contiguous tensors only");
    };
    Ok(&values[start..end])
}

/// The values of a contiguous f32 tensor, to change in place.
pub(super) fn values_mut<'a>(storage: &'a mut CpuStorage, layout: &Layout) -> Result<&'a mut [f32]> {
    let CpuStorage::F32(values) = storage else {
        candle_core::bail!("the encoder works in f32, not {:?}", storage.dtype());
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("the encoder's in-place steps write contiguous tensors only");
    };
    Ok(&mut values[start..end])
}

/// Runs `f` over whole rows of `width` values of `y`, in parallel when `y` is large; `f` gets
/// a run of rows and the index of its first row.
pub(super) fn for_rows(y: &mut [f32], width: usize, f: impl Fn(&mut [f32], usize) + Sync) -> Result<()> {
    if width == 0 || !y.len().is_multiple_of(width) {
        candle_core::bail!("{} values are not made of rows of {width}", y.len());
    }
    if y.len() <= CHUNK {
        f(y, 0);
        return Ok(());
    }
    let rows_per_task = (CHUNK / width).max(1);
    y.par_chunks_mut(rows_per_task * width).enumerate().for_each(|(task, rows)| f(rows, task * rows_per_task));
    Ok(())
}
