/** The colours of classes, one palette for the page's overlays and the CLI's figures. */

/** Segmentation colours by MSRS class id (0 = unlabelled is never drawn). */
export const SEG_COLORS: [number, number, number][] = [
  [0, 0, 0], // unlabelled
  [66, 133, 244], // car
  [234, 67, 53], // person
  [251, 188, 5], // bike
  [52, 168, 83], // curve
  [171, 71, 188], // car_stop
  [0, 172, 193], // guardrail
  [255, 112, 67], // color_cone
  [158, 157, 36], // bump
];

/** Detection colours by detection class (person, bicycle, car), matching the seg colours. */
export const DET_COLORS = ['#ea4335', '#fbbc05', '#4285f4'];
