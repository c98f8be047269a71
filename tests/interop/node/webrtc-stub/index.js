// No WebRTC here (see package.json): every export is undefined, as in a
// browser without WebRTC, so simple-peer reports WebRTC as unsupported.
export const RTCPeerConnection = undefined;
export const RTCSessionDescription = undefined;
export const RTCIceCandidate = undefined;
export default {};
