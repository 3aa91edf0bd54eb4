// Every command id in one place; package.json's `contributes.commands` lists the same ids.
export const Commands = {
  openCapture: 'netpath.openCapture',
  loadDemoCapture: 'netpath.loadDemoCapture',
} as const;
export type CommandId = (typeof Commands)[keyof typeof Commands];
