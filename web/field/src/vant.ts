// Styles of the Vant components the app uses (the components themselves are imported where
// used, so only these end up in the bundle).
import 'vant/es/style/base.css';
import 'vant/es/button/style/index';
import 'vant/es/cell/style/index';
import 'vant/es/cell-group/style/index';
import 'vant/es/dialog/style/index';
import 'vant/es/empty/style/index';
import 'vant/es/field/style/index';
import 'vant/es/icon/style/index';
import 'vant/es/image-preview/style/index';
import 'vant/es/list/style/index';
import 'vant/es/loading/style/index';
import 'vant/es/nav-bar/style/index';
import 'vant/es/notice-bar/style/index';
import 'vant/es/picker/style/index';
import 'vant/es/popup/style/index';
import 'vant/es/pull-refresh/style/index';
import 'vant/es/radio/style/index';
import 'vant/es/radio-group/style/index';
import 'vant/es/search/style/index';
import 'vant/es/switch/style/index';
import 'vant/es/tab/style/index';
import 'vant/es/tabbar/style/index';
import 'vant/es/tabbar-item/style/index';
import 'vant/es/tabs/style/index';
import 'vant/es/tag/style/index';
import 'vant/es/toast/style/index';
