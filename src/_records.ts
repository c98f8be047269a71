// Record lists (btx.h "Record lists"): a variable number of fixed-size
// records of doubles plus their strings, written by the shim into buffers
// the caller owns and reuses, grown when a call reports they are too small.
// Internal.
import { TorrentError } from "./errors.ts";

const BTX_E_BUFFER_TOO_SMALL = 8;

/** Two reusable buffers (doubles, string bytes) and the `out[4]` counters. */
export class RecordBuffers {
  nums: Float64Array;
  strs: Uint8Array;
  readonly out: Uint32Array = new Uint32Array(4);

  constructor(nums = 256, strs = 4096) {
    this.nums = new Float64Array(nums);
    this.strs = new Uint8Array(strs);
  }

  /**
   * Runs `call` until the result fits (growing the buffers as the shim
   * asks); returns its status code (0, or the error to report). After 0,
   * `out[0]` is the record count and `out[1]` the string bytes.
   */
  fill(
    call: (nums: Float64Array, numsCap: number, strs: Uint8Array, strsCap: number, out: Uint32Array) => number,
  ): number {
    for (let attempt = 0; attempt < 8; attempt++) {
      const rc = call(this.nums, this.nums.length, this.strs, this.strs.length, this.out);
      if (rc !== BTX_E_BUFFER_TOO_SMALL) return rc;
      const needNums = this.out[2], needStrs = this.out[3];
      // Some headroom: the result may grow between two calls.
      if (needNums > this.nums.length) this.nums = new Float64Array(Math.ceil(needNums * 1.25) + 64);
      if (needStrs > this.strs.length) this.strs = new Uint8Array(Math.ceil(needStrs * 1.25) + 1024);
    }
    throw new TorrentError("INTERNAL", "the result kept outgrowing its buffers");
  }
}
